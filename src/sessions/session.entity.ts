import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How a session ended: logged out, revoked by someone, its user deleted, or expired (found by the sweeper). */
export type SessionEndReason = 'logout' | 'revoked' | 'user-deleted' | 'expired';

/** A row of `sessions`. The token itself is never stored, only its SHA-256 (see session-token.ts). */
@Entity('sessions')
export class SessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId!: string;

  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash!: string;

  @Column({ name: 'created_at', type: Date })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: Date })
  expiresAt!: Date;

  /** Null while the session is open (it may still have expired; the sweeper ends those). */
  @Column({ name: 'ended_at', type: Date, nullable: true })
  endedAt!: Date | null;

  @Column({ name: 'end_reason', type: 'varchar', length: 16, nullable: true })
  endReason!: SessionEndReason | null;

  /** Which password opened it (passwordStampOf); null for sessions older than the column. A password change ends the others. */
  @Column({ name: 'password_stamp', type: 'varchar', length: 64, nullable: true })
  passwordStamp!: string | null;

  /** Who ended it: a user id or `system`. */
  @Column({ name: 'ended_by', type: 'varchar', length: 200, nullable: true })
  endedBy!: string | null;
}
