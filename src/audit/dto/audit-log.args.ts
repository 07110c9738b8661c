import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';

export const MAX_AUDIT_ENTRIES = 500;

@ArgsType()
export class AuditLogArgs {
  @Field(() => Int, { defaultValue: 50, description: `How many of the newest entries (1-${MAX_AUDIT_ENTRIES})` })
  @IsInt()
  @Min(1)
  @Max(MAX_AUDIT_ENTRIES)
  limit!: number;
}
