/** Options of `DatabaseModule.forRoot`; where the database is comes from `AppServerConfig.databaseUrl`. */
export interface DatabaseModuleOptions {
  /**
   * The embedded database file, used when no PostgreSQL URL is configured.
   * Relative paths start at the working directory; its folder is created.
   * `':memory:'` keeps the database in memory only (throwaway tests).
   * Default `./data/appserver.sqlite`.
   */
  readonly embeddedFile?: string;
  /** Connections in the PostgreSQL pool. Default 10. */
  readonly poolSize?: number;
  /** Attempts to reach PostgreSQL at boot before giving up. Default 5. */
  readonly connectAttempts?: number;
  /** Pause between those attempts. Default 2 s. */
  readonly connectRetryDelayMs?: number;
  /** Log every SQL statement (debugging). Default false. */
  readonly logSql?: boolean;
}

export const DEFAULT_EMBEDDED_FILE = './data/appserver.sqlite';
export const IN_MEMORY = ':memory:';
