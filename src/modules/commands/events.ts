import type { CommandStatus } from './status.js';

declare module '../../events/events.js' {
  interface PulseEvents {
    /** Every transition of a command, its creation (QUEUED) included, after commit. */
    commandStatusChanged: {
      tenantId: string;
      deviceId: string;
      commandId: string;
      /** The group batch it belongs to, if any. */
      batchId: string | null;
      /** Null when the command was created. */
      previousStatus: CommandStatus | null;
      status: CommandStatus;
      occurredAt: string;
    };
  }
}

export {};
