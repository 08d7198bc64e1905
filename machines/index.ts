/**
 * machines: pure xstate v5 machine definitions (vendor-region, deployment, request, router).
 * No I/O: they import only xstate and src/domain, and keep time through xstate delays so tests
 * drive them with a simulated clock. actors/ wires them to NATS, undici and the clock.
 * health.machine.ts (vendor-region and deployment breakers, its types in health-types.ts, with
 * outcome-window.ts and estimators.ts), request.machine.ts (its types in request-types.ts), router.machine.ts.
 */
export {};
