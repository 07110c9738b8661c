import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ConfigModule } from '../../../src/config/config.module';
import { loadConfig } from '../../../src/config/load-config';
import { DatabaseModule } from '../../../src/database/database.module';
import { DatabaseModuleOptions } from '../../../src/database/database-module.options';
import { columnTypesFor } from '../../../src/database/migrations/column-types';
import { UnitOfWork } from '../../../src/database/unit-of-work';
import { createNotesTableSql, Note } from './note.entity';

/** An application context with only the configuration and the database (plus the test entity). */
export class DatabaseApp {
  private constructor(readonly app: INestApplicationContext) {}

  static async start(database: { env: Record<string, string>; moduleOptions: DatabaseModuleOptions }): Promise<DatabaseApp> {
    const config = loadConfig({ ...database.env, APPSERVER_INSTANCE_ID: 'database-test' });
    // The way a domain module registers its entities: TypeOrmModule.forFeature in its own module.
    @Module({ imports: [TypeOrmModule.forFeature([Note])] })
    class NotesModule {}
    @Module({ imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(database.moduleOptions), NotesModule] })
    class DatabaseTestModule {}
    const app = await NestFactory.createApplicationContext(DatabaseTestModule, {
      logger: process.env.TEST_LOGS ? undefined : false,
      // A failed boot rejects (the test reports it) instead of exiting the test process.
      abortOnError: false,
    });
    await app.init();
    return new DatabaseApp(app);
  }

  get unitOfWork(): UnitOfWork {
    return this.app.get(UnitOfWork);
  }

  get dataSource(): DataSource {
    return this.app.get(DataSource);
  }

  /** Creates the test table unless an earlier test (or instance) did. */
  async ensureNotesTable(): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      if (await tx.queryRunner!.hasTable('test_notes')) return;
      await tx.query(createNotesTableSql(columnTypesFor(tx.queryRunner!)));
    });
  }

  notes(): Promise<Note[]> {
    return this.unitOfWork.read((manager) => manager.find(Note, { order: { id: 'ASC' } }));
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
