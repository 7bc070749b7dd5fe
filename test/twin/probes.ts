/**
 * Deterministic waits for asynchronous effects, instead of sleeps.
 *
 * - A device's `publishAsync` resolves on the *broker's* PUBACK, which says the broker has the
 *   message, not that the server applied it; and on the shared Mosquitto every running test app
 *   (one per test file) ingests every device's messages. So a test waits for its own app's bridge
 *   to have settled the report (its transaction committed).
 * - A GraphQL subscription listens only once graphql-ws has started iterating it; a test waits for
 *   that before causing the event it expects.
 * Both observe the real objects (the bridge's settled-message hook, the event bus): nothing is mocked.
 */
import type { SettledMessage } from '../../src/mqtt/bridge.js';
import type { TestApp } from '../harness/app.js';

/**
 * Resolves with this app's outcome for the next twin report of the device, once the bridge has
 * settled it (its transaction committed). Call it before publishing. The outcome is this app's:
 * when another test app applied the report first, this one sees it as a duplicate.
 */
export function nextTwinReport(app: TestApp, tenantId: string, deviceId: string): Promise<SettledMessage['outcome']> {
  const topic = `pulse/${tenantId}/${deviceId}/twin/reported`;
  return new Promise((resolve) => {
    const stop = app.pulse.app.bridge.onSettled((message) => {
      if (message.topic !== topic) return;
      stop();
      resolve(message.outcome);
    });
  });
}

export { nextListener } from '../harness/listeners.js';

/** The value of a counter sample in the app's /metrics text, 0 when absent. */
export async function metricValue(app: TestApp, name: string, labels: Record<string, string>): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${app.port}/metrics`);
  const text = await response.text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const parts = labelText.split(',');
    if (wanted.every((label) => parts.includes(label))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
