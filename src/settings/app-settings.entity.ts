import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A JSON object as TypeORM's typed inserts and updates accept it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = Record<string, any>;

/** A row of `app_settings`: one per registered app, holding its schema and current values. */
@Entity('app_settings')
export class AppSettingsEntity {
  @PrimaryColumn({ name: 'app_name', type: 'varchar', length: 200 })
  appName!: string;

  /** JSON Schema the values must satisfy; null when the app declared none. */
  @Column({ type: 'simple-json', nullable: true })
  schema!: JsonObject | null;

  @Column({ type: 'simple-json' })
  values!: JsonObject;

  /** Starts at 1 and increases with every change. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'updated_by', type: 'varchar', length: 200 })
  updatedBy!: string;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
