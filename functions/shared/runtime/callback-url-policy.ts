/**
 * Which webhook targets this deployment of CodeRunner accepts: the cloud's policy unless
 * CALLBACK_URL_ALLOW_LOOPBACK=true (the local stack sets it, so receivers on this machine work).
 */
import { DEFAULT_CALLBACK_URL_POLICY, type CallbackUrlPolicy } from '../webhooks/callback-url.ts';

export function callbackUrlPolicy(env: NodeJS.ProcessEnv = process.env): CallbackUrlPolicy {
  return { ...DEFAULT_CALLBACK_URL_POLICY, allowLoopback: env.CALLBACK_URL_ALLOW_LOOPBACK === 'true' };
}
