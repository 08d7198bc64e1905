/**
 * transport: how Switchyard talks over NATS: subjects (built and parsed only here), and later the
 * connection, headers, codecs and the $SRV responder. Imports src/domain, src/config, src/observability.
 */
export { DEFAULT_PREFIX, assertToken, chaosSubject, chaosWildcard, vendorRegionOfChaosSubject } from './subjects.js';
