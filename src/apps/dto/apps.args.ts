import { ArgsType, Field } from '@nestjs/graphql';
import { IsEnum, IsOptional } from 'class-validator';
import { AppState } from '../app-state';

@ArgsType()
export class AppsArgs {
  @Field(() => AppState, { nullable: true, description: 'Only apps in this state' })
  @IsOptional()
  @IsEnum(AppState)
  state?: AppState;
}
