import { SetMetadata } from '@nestjs/common';

export const REQUIRED_PERMISSION = Symbol('appserver:required-permission');

/**
 * Declares the permission an operation needs, e.g. `@RequiresPermission('apps.install')`.
 * The identity-and-access work enforces it with a guard; declaring it here
 * keeps every operation's requirement next to the operation.
 */
export const RequiresPermission = (action: string) => SetMetadata(REQUIRED_PERMISSION, action);
