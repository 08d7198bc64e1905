/** What a command may touch of the outside world; the composition root (src/app) supplies the real one. */
export interface CliIo {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Settles when the process is asked to stop (SIGINT or SIGTERM); long-running commands wait on it. */
  shutdown?: Promise<unknown>;
}

/** Exit codes shared by every command: 2 always means "you asked wrong", never "the check failed". */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Invalid: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
