import { SetMetadata } from '@nestjs/common';
import { ACCESS_POLICY, AccessPolicy } from './access-policy';

/** Anyone may call this operation, without a session (e.g. `login`). Say so explicitly: undeclared operations are refused. */
export const Public = () => SetMetadata<symbol, AccessPolicy>(ACCESS_POLICY, { kind: 'public' });

/** Any valid session may call this operation; it needs no permission (e.g. `me`, `logout`). */
export const RequiresSession = () => SetMetadata<symbol, AccessPolicy>(ACCESS_POLICY, { kind: 'session' });

/** Only admins may call this operation; no grant confers it (e.g. granting permissions, reading the audit log). */
export const RequiresAdmin = () => SetMetadata<symbol, AccessPolicy>(ACCESS_POLICY, { kind: 'admin' });
