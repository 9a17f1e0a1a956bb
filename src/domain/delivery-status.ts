export const DeliveryStatus = {
  PENDING: 'PENDING',
  SENDING: 'SENDING',
  RETRYING: 'RETRYING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/** Statuses from which the dispatcher may still claim a delivery. */
export const claimableStatuses: readonly DeliveryStatus[] = [DeliveryStatus.PENDING, DeliveryStatus.RETRYING];

/** Statuses a delivery never leaves on its own. */
export const finalStatuses: readonly DeliveryStatus[] = [
  DeliveryStatus.SUCCEEDED,
  DeliveryStatus.FAILED,
  DeliveryStatus.CANCELLED,
];

export function isFinalStatus(status: DeliveryStatus): boolean {
  return finalStatuses.includes(status);
}
