/**
 * actors: the machines of machines/ wired to the world (vendor adapters, NATS, the clock).
 * May import machines/ and src/ except src/app and src/cli; src/app and src/cli import it.
 * The actor system arrives with the routing core; this folder is where it will live.
 */
export {};
