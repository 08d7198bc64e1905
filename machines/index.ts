/**
 * machines: pure xstate v5 machine definitions (vendor-region, deployment, request, router).
 * No I/O: they import only xstate and src/domain, and keep time through xstate delays so tests
 * drive them with a simulated clock. actors/ wires them to NATS, undici and the clock.
 * The machines arrive with the routing core; this folder is where they will live.
 */
export {};
