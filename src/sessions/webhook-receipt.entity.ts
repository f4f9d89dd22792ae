import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One vendor webhook delivery that was verified and applied. The unique key makes a replayed
 * delivery a no-op: LiveKit events carry an id; OpenVidu events are keyed by a hash of the body.
 */
@Entity('webhook_receipt')
@Index('uq_webhook_receipt_event', ['credentialId', 'eventKey'], { unique: true })
export class WebhookReceipt {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'uuid' })
  credentialId!: string;

  @Column({ type: 'varchar', length: 128 })
  eventKey!: string;

  @Column({ type: 'varchar', length: 64 })
  event!: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  receivedAt!: Date;
}
