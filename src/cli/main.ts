/**
 * The command line: dispatches to one command, renders every failure as a short paragraph that says
 * what to do, and returns the exit code. No stack trace unless --debug.
 */
import { SwitchyardError, UsageError } from '../domain/index.js';
import { VERSION } from '../transport/version.js';
import { parseFlags, noPositionals } from './args.js';
import { check, checkHelp } from './commands/check.js';
import { config, configHelp } from './commands/config.js';
import { simulate, simulateFlags, simulateHelp } from './commands/simulate.js';
import { start, startFlags, startHelp } from './commands/start.js';
import { dev, devFlags, devHelp } from './commands/dev.js';
import { gateway, gatewayFlags, gatewayHelp, parseListen } from './commands/gateway.js';
import { drain, drainHelp, status, statusHelp } from './commands/status.js';
import { send, sendHelp } from './commands/send.js';
import { ExitCode, type CliIo } from './io.js';

type Command = (args: readonly string[], io: CliIo) => Promise<ExitCode>;

interface CommandEntry {
  run: Command;
  help: string;
  summary: string;
  /** The flags, for checking a command line without running it (a compose file's, a Dockerfile's). */
  flags?: Parameters<typeof parseFlags>[2];
  /** What a command line must hold beyond well-formed flags. */
  validate?: (values: Record<string, unknown>) => void;
}

const COMMANDS: Record<string, CommandEntry> = {
  dev: {
    run: dev,
    help: devHelp,
    summary: 'run it all locally: NATS, the vendor simulator, a router node and the HTTP gateway',
    flags: devFlags,
    validate: (v) => void parseListen(String(v.gateway)),
  },
  start: {
    run: start,
    help: startHelp,
    summary: 'run a router node for real vendors (or a simulator, with --simulator)',
    flags: startFlags,
    validate: (v) => {
      if (typeof v.env !== 'string') throw new UsageError('switchyard start: --env is required');
    },
  },
  gateway: {
    run: gateway,
    help: gatewayHelp,
    summary: 'serve the OpenAI- and Anthropic-compatible HTTP gateway; `gateway key` makes an API key',
    flags: gatewayFlags,
    validate: (v) => void parseListen(String(v.listen)),
  },
  check: { run: check, help: checkHelp, summary: 'single-point-of-failure report for a config' },
  config: { run: config, help: configHelp, summary: 'print the config JSON Schema, or the resolved config with secrets masked' },
  simulate: { run: simulate, help: simulateHelp, summary: 'serve simulated vendors (every protocol of the fleet) on loopback', flags: simulateFlags },
  status: { run: status, help: statusHelp, summary: 'every router node and deployment state, per node and merged' },
  drain: { run: drain, help: drainHelp, summary: 'tell one router node to drain and stop' },
  send: { run: send, help: sendHelp, summary: 'send one request through the router nodes and print the answer' },
};

export { VERSION };

/**
 * Whether a command line would be accepted, without running it: the command exists, its flags
 * parse, and what it cannot run without is there. The problem, or undefined.
 */
export function checkInvocation(argv: readonly string[]): string | undefined {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) return `unknown command "${name ?? ''}"`;
  if (!command.flags) return undefined;
  try {
    const { values, positionals } = parseFlags(name!, args, command.flags);
    noPositionals(name!, positionals);
    command.validate?.(values);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: switchyard <command> [flags]

Switchyard routes LLM requests across vendors and regions over NATS.

Commands:
${lines.join('\n')}

Run \`switchyard <command> --help\` for a command's flags. Add --debug to any command for stack traces.
`;
}

export async function runCli(io: CliIo): Promise<ExitCode> {
  const debug = io.argv.includes('--debug');
  const argv = io.argv.filter((a) => a !== '--debug');
  const [name, ...args] = argv;
  try {
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      io.stdout(usage());
      return name === undefined ? ExitCode.Invalid : ExitCode.Ok;
    }
    if (name === '--version' || name === '-v') {
      io.stdout(`${VERSION}\n`);
      return ExitCode.Ok;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}`);
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout(command.help);
      return ExitCode.Ok;
    }
    return await command.run(args, io);
  } catch (error) {
    io.stderr(renderError(error, debug));
    return ExitCode.Invalid;
  }
}

function renderError(error: unknown, debug: boolean): string {
  const stack = debug && error instanceof Error && error.stack ? `\n${error.stack}\n` : '';
  // Usage errors already name their command ("switchyard check: ..."); others get the program name.
  const named = (message: string) => (message.startsWith('switchyard ') ? message : `switchyard: ${message}`);
  if (error instanceof SwitchyardError) return `${named(error.message)}\n${error.hint}\n${stack}`;
  const message = error instanceof Error ? error.message : String(error);
  return `switchyard: unexpected error: ${message}\nRun again with --debug for the stack trace, and file an issue with it if this looks like a bug.\n${stack}`;
}
