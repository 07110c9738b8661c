import { Injectable } from '@nestjs/common';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { FieldProblem } from '../common/app-errors';

/** Compiled validators kept per distinct schema; apps are few, so a small bound is plenty. */
const MAX_COMPILED = 500;

/** JSON Schema checks for app settings, with ajv. */
@Injectable()
export class SettingsSchemaValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  /** Problems with the schema itself (empty when it is a valid JSON Schema). */
  checkSchema(schema: Record<string, unknown>, field: string): FieldProblem[] {
    if (this.ajv.validateSchema(schema)) {
      try {
        this.compile(schema);
        return [];
      } catch (error) {
        return [{ field, reason: `not a usable JSON Schema: ${(error as Error).message}` }];
      }
    }
    return (this.ajv.errors ?? []).map((error) => ({ field: joinPath(field, error.instancePath), reason: `${error.message ?? 'invalid'}` }));
  }

  /** Each violation of `schema` by `values`, with its path (`values.theme`) and reason. */
  validate(schema: Record<string, unknown>, values: Record<string, unknown>, field = 'values'): FieldProblem[] {
    const validate = this.compile(schema);
    if (validate(values)) return [];
    return (validate.errors ?? []).map((error) => toProblem(error, field));
  }

  private compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      if (this.compiled.size >= MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value as string);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

function toProblem(error: ErrorObject, field: string): FieldProblem {
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { field: joinPath(field, `${error.instancePath}/${missing}`), reason: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { field: joinPath(field, `${error.instancePath}/${extra}`), reason: 'is not allowed by the schema' };
  }
  return { field: joinPath(field, error.instancePath), reason: error.message ?? 'is invalid' };
}

/** `values` + `/a/0/b` → `values.a.0.b` */
function joinPath(field: string, pointer: string): string {
  const parts = pointer
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return [field, ...parts].join('.');
}
