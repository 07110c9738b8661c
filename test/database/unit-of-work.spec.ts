import { join } from 'node:path';
import { EntityManager } from 'typeorm';
import { MIGRATIONS } from '../../src/database/migrations';
import { createDatabaseUnderTest, createEmbeddedTestFile, createTestDatabase, DATABASE_KINDS, DatabaseUnderTest } from '../support/database';
import { describeWith } from '../support/services';
import { Gate } from '../support/wait-for';
import { DatabaseApp } from './support/database-app';
import { Note } from './support/note.entity';

let sequence = 0;
function note(id: string, overrides: Partial<Note> = {}): Note {
  return Object.assign(new Note(), {
    id,
    text: `note ${id}`,
    details: { tags: ['a', 'b'], rank: ++sequence, nested: { ok: true } },
    writtenAt: new Date(),
    archivedAt: null,
    ...overrides,
  });
}

/** Lets every other pending task run (e.g. other transactions' statements) before going on. */
const yieldToOthers = () => new Promise((resolve) => setImmediate(resolve));

const migrationNames = MIGRATIONS.map((migration) => new migration().name ?? migration.name);

/** The same cases on PostgreSQL and on the embedded database, plus what is particular to each. */
for (const [kind, services] of DATABASE_KINDS) {
  describeWith(services, `Database and UnitOfWork (${kind})`, () => {
    let database: DatabaseUnderTest;
    let app: DatabaseApp;

    beforeAll(async () => {
      database = await createDatabaseUnderTest(kind);
      app = await DatabaseApp.start(database);
      await app.ensureNotesTable();
    });

    afterAll(async () => {
      await app?.close();
      await database?.dispose();
    });

    it('migrates an empty database at boot, and does not run a migration twice on the next boot', async () => {
      const executed = async (on: DatabaseApp) =>
        (await on.unitOfWork.read((manager) => manager.query('SELECT name FROM migrations ORDER BY id'))).map((row: { name: string }) => row.name);
      expect(await executed(app)).toEqual(migrationNames);
      expect(await app.unitOfWork.read((manager) => manager.queryRunner?.hasTable('outbox_messages') ?? manager.connection.createQueryRunner().hasTable('outbox_messages'))).toBe(true);

      await app.close();
      app = await DatabaseApp.start(database);

      expect(await executed(app)).toEqual(migrationNames);
    });

    it('stores and reads back every portable column type alike', async () => {
      const written = note('types-1', { writtenAt: new Date('2024-02-29T23:59:58.123Z'), details: { tags: ['ü', '"quoted"'], rank: 7, nested: { ok: false } } });
      await app.unitOfWork.run((tx) => tx.save(written));

      const read = await app.unitOfWork.read((manager) => manager.findOneByOrFail(Note, { id: 'types-1' }));

      expect(read).toEqual(written);
      expect(read.writtenAt).toBeInstanceOf(Date);
      expect(read.writtenAt.toISOString()).toBe('2024-02-29T23:59:58.123Z');
      const found = await app.unitOfWork.read((manager) =>
        manager
          .createQueryBuilder(Note, 'n')
          .where('n.writtenAt < :before', { before: new Date('2024-03-01T00:00:00Z') })
          .andWhere('n.id = :id', { id: 'types-1' })
          .getCount(),
      );
      expect(found).toBe(1);
    });

    it('commits the work, resolves with its result, then runs the after-commit callbacks', async () => {
      const steps: string[] = [];

      const result = await app.unitOfWork.run(async (tx) => {
        await tx.save(note('commit-1'));
        app.unitOfWork.afterCommit(tx, () => steps.push('after commit'));
        steps.push('work done');
        return 'result';
      });

      expect(result).toBe('result');
      expect(steps).toEqual(['work done', 'after commit']);
      expect(await app.unitOfWork.read((manager) => manager.existsBy(Note, { id: 'commit-1' }))).toBe(true);
    });

    it('rolls back every change when the work throws, and runs no after-commit callback', async () => {
      const steps: string[] = [];

      await expect(
        app.unitOfWork.run(async (tx) => {
          await tx.save(note('rollback-1'));
          await tx.save(note('rollback-2'));
          app.unitOfWork.afterCommit(tx, () => steps.push('after commit'));
          throw new Error('the change is refused');
        }),
      ).rejects.toThrow('the change is refused');

      expect(steps).toEqual([]);
      expect(await app.unitOfWork.read((manager) => manager.countBy(Note, { id: 'rollback-1' }))).toBe(0);
      expect(await app.unitOfWork.read((manager) => manager.countBy(Note, { id: 'rollback-2' }))).toBe(0);
    });

    it('accepts after-commit callbacks only for an open UnitOfWork transaction', async () => {
      let finished: EntityManager | undefined;
      await app.unitOfWork.run(async (tx) => {
        finished = tx;
      });

      expect(() => app.unitOfWork.afterCommit(app.dataSource.manager, () => undefined)).toThrow(/open UnitOfWork\.run transaction/);
      expect(() => app.unitOfWork.afterCommit(finished!, () => undefined)).toThrow(/open UnitOfWork\.run transaction/);
    });

    if (kind === 'embedded') {
      it('runs overlapping transactions one at a time, so a rollback never takes rows another one committed', async () => {
        const plans = Array.from({ length: 12 }, (_, i) => ({ id: `overlap-${String(i).padStart(2, '0')}`, commit: i % 3 !== 1 }));

        const results = await Promise.allSettled(
          plans.map((plan) =>
            app.unitOfWork.run(async (tx) => {
              await tx.insert(Note, note(`${plan.id}-a`));
              // Without turns, the other transactions' statements would run here, inside this one.
              await yieldToOthers();
              await tx.insert(Note, note(`${plan.id}-b`));
              if (!plan.commit) throw new Error(`roll back ${plan.id}`);
            }),
          ),
        );

        expect(results.map((result) => result.status)).toEqual(plans.map((plan) => (plan.commit ? 'fulfilled' : 'rejected')));
        const stored = (await app.notes()).map((n) => n.id).filter((id) => id.startsWith('overlap-'));
        const expected = plans.filter((plan) => plan.commit).flatMap((plan) => [`${plan.id}-a`, `${plan.id}-b`]);
        expect(stored).toEqual(expected);
      });

      it('makes reads wait for open transactions, so they never see uncommitted rows', async () => {
        const writers = Array.from({ length: 4 }, (_, i) =>
          app.unitOfWork
            .run(async (tx) => {
              await tx.insert(Note, note(`uncommitted-${i}`));
              await yieldToOthers();
              throw new Error('roll back');
            })
            .catch(() => 'rolled back'),
        );
        const reads = Array.from({ length: 4 }, () =>
          app.unitOfWork.read(async (manager) => {
            await yieldToOthers();
            return manager.createQueryBuilder(Note, 'n').where('n.id LIKE :prefix', { prefix: 'uncommitted-%' }).getCount();
          }),
        );

        expect(await Promise.all(writers)).toEqual(['rolled back', 'rolled back', 'rolled back', 'rolled back']);
        expect(await Promise.all(reads)).toEqual([0, 0, 0, 0]);
      });

      it('keeps committed data in its file across restarts, creating the folder it is in', async () => {
        const scratch = await createEmbeddedTestFile();
        const file = join(scratch.file, '..', 'nested', 'deeper', 'appserver.sqlite');
        try {
          const first = await DatabaseApp.start({ env: {}, moduleOptions: { embeddedFile: file } });
          await first.ensureNotesTable();
          await first.unitOfWork.run((tx) => tx.save(note('persisted-1')));
          await first.close();

          const second = await DatabaseApp.start({ env: {}, moduleOptions: { embeddedFile: file } });
          try {
            expect((await second.notes()).map((n) => n.id)).toEqual(['persisted-1']);
          } finally {
            await second.close();
          }
        } finally {
          await scratch.remove();
        }
      });

      it('can live in memory only', async () => {
        const memory = await DatabaseApp.start({ env: {}, moduleOptions: { embeddedFile: ':memory:' } });
        try {
          await memory.ensureNotesTable();
          await memory.unitOfWork.run((tx) => tx.save(note('in-memory-1')));
          expect((await memory.notes()).map((n) => n.id)).toEqual(['in-memory-1']);
        } finally {
          await memory.close();
        }
      });
    }

    if (kind === 'postgres') {
      it('runs transactions side by side, each on its own connection', async () => {
        const secondCommitted = new Gate();

        // The first waits for the second to commit: with transactions taking turns, this would never finish.
        const first = app.unitOfWork.run(async (tx) => {
          await tx.save(note('side-by-side-1'));
          await secondCommitted.opened;
          return tx.countBy(Note, { id: 'side-by-side-2' });
        });
        await app.unitOfWork.run((tx) => tx.save(note('side-by-side-2')));
        secondCommitted.open();

        // Read committed: the first sees what the second committed meanwhile.
        expect(await first).toBe(1);
      });

      it('lets instances boot together on an empty database, migrating it once', async () => {
        const fresh = await createTestDatabase();
        const started: DatabaseApp[] = [];
        try {
          const boots = await Promise.allSettled(
            [1, 2, 3].map(() => DatabaseApp.start({ env: { APPSERVER_DATABASE_URL: fresh.url }, moduleOptions: {} })),
          );
          for (const boot of boots) if (boot.status === 'fulfilled') started.push(boot.value);

          expect(boots.map((boot) => (boot.status === 'rejected' ? String(boot.reason) : 'started'))).toEqual(['started', 'started', 'started']);
          const executed = await started[0].unitOfWork.read((manager) => manager.query('SELECT name FROM migrations ORDER BY id'));
          expect(executed.map((row: { name: string }) => row.name)).toEqual(migrationNames);
        } finally {
          for (const instance of started) await instance.close();
          await fresh.drop();
        }
      });
    }
  });
}
