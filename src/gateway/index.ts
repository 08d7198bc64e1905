/**
 * gateway: the HTTP front door (docs/design.md §7). OpenAI-compatible `POST /v1/chat/completions`
 * and Anthropic-compatible `POST /v1/messages`, plain and streaming, `GET /v1/models`, `/healthz`
 * and `/readyz`; API keys (stored hashed) decide tenant, use cases and priority ceiling. Stateless:
 * each request goes over NATS to the router nodes through the client library, so gateways and
 * routers scale apart. May import src/domain, src/config, src/capacity (the priority rule),
 * src/client, src/transport, src/observability and the OpenAI and Anthropic wire formats of
 * src/vendors; imported by src/cli.
 */
export { startGateway, type GatewayLimits, type GatewayOptions, type RunningGateway } from './server.js';
export { hashKey, newApiKey } from './keys.js';
export { DEADLINE_HEADER, PRIORITY_HEADER, USE_CASE_HEADER } from './caller.js';
