import { DomainError } from '../../kernel/errors.js';
import type { CommandStatus } from './status.js';

/** Only a QUEUED command that no publisher is handing to the broker can be cancelled. */
export class CommandNotCancellableError extends DomainError {
  constructor(
    readonly commandId: string,
    readonly status: CommandStatus,
    readonly publishing: boolean,
  ) {
    super(
      publishing ? `Command ${commandId} is being handed to the broker and can no longer be cancelled` : `Command ${commandId} is ${status} and can no longer be cancelled`,
      'COMMAND_NOT_CANCELLABLE',
    );
  }
}
