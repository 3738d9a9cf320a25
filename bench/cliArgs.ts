// Command-line arguments of the bench scripts run as `npx vite-node bench/<script>.ts -- …`.

/** The arguments after the script's name, without the `--` that separates them from vite-node's. */
export function scriptArgs(): string[] {
  return process.argv.slice(2).filter((arg) => arg !== "--");
}

/** The value given after `--<name>`, or undefined when the option is absent. */
export function optionValue(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
}
