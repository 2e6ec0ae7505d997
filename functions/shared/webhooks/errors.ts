/** Webhook delivery errors. Flat; every class sets a stable `name`. */

/** The target is not one we POST to (a refused address, now or after resolving): never retried. */
export class WebhookTargetRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookTargetRefusedError';
  }
}

/** One attempt got no answer (connection refused, timed out, reset). */
export class WebhookRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WebhookRequestError';
  }
}

/** Every attempt of this invocation failed: the invocation fails, and Lambda's async retries (then the DLQ) take over. */
export class WebhookDeliveryFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookDeliveryFailedError';
  }
}
