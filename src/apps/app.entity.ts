import { Column, Entity, PrimaryColumn } from 'typeorm';
import { AppState } from './app-state';

/** A row of `apps`. Dates use `type: Date` so TypeORM maps them per driver (the migration picks timestamptz on PostgreSQL). */
@Entity('apps')
export class AppEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 200, unique: true })
  name!: string;

  @Column({ type: 'varchar', length: 64 })
  version!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: AppState;

  @Column({ name: 'installed_at', type: Date, nullable: true })
  installedAt!: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date })
  updatedAt!: Date;
}
