import { registerEnumType } from '@nestjs/graphql';

/** Who a permission is granted to: a user (subject = user id) or an app (subject = app name). */
export enum SubjectType {
  USER = 'USER',
  APP = 'APP',
}

registerEnumType(SubjectType, { name: 'SubjectType', description: 'USER: the subject is a user id; APP: the subject is an app name' });

/** The holder of a set of grants. */
export interface PermissionSubject {
  readonly type: SubjectType;
  /** A user id, or an app name. */
  readonly id: string;
}
