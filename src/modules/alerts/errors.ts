import { DomainError } from '../../kernel/errors.js';

/** Acknowledging an alert that has already cleared. */
export class AlertNotOpenError extends DomainError {
  constructor(
    readonly alertId: string,
    readonly state: 'active' | 'acknowledged' | 'cleared',
  ) {
    super(`Alert ${alertId} is ${state.toUpperCase()} and can no longer be acknowledged`, 'ALERT_NOT_OPEN');
  }
}

export const ALERT_ERROR_CODES = ['ALERT_NOT_OPEN'] as const;
