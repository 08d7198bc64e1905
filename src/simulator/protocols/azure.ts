/** The simulated azure protocol: not built yet; answers 501 so a test against it fails loudly. */
import { sendJson, type ProtocolHandler } from '../protocol.js';

export const azureProtocol: ProtocolHandler = async ({ res }) => {
  sendJson(res, 501, { error: 'the azure simulator is not built yet' });
  return Promise.resolve();
};
