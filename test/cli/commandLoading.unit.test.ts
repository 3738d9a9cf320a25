// The CLI loads only the module of the command it runs (`herald sign` never loads the server,
// the stores or the NATS client); help and an unknown command load them all, the version none.
// Each of them still answers as before.

import { describe, expect, it } from "vitest";
import { commandsFor } from "../../packages/server/src/cli/main.js";
import { runCliCaptured } from "../helpers/runCliCaptured.js";

const ALL = 14;

describe("the commands an invocation loads", () => {
  it("one module for a command, by its name or alias, whatever follows", () => {
    for (const args of [
      ["sign", "--scheme", "github"],
      ["verify"],
      ["secret", "generate"],
      ["secrets", "list"],
      ["serve"],
      ["worker", "--db", "x.db"],
      ["nats", "token", "list"],
      ["stream-tokens", "create"],
    ]) {
      expect(commandsFor(args), args.join(" ")).toHaveLength(1);
    }
    // serve and worker share one module.
    expect(commandsFor(["worker"])[0]).toBe(commandsFor(["serve"])[0]);
  });

  it("every module for help, no command, a typo and `help <command>`; none for the version", () => {
    for (const args of [[], ["--help"], ["-h"], ["help", "sign"], ["sgin"], ["--db", "x"]]) {
      expect(commandsFor(args), args.join(" ")).toHaveLength(ALL);
    }
    expect(commandsFor(["--version"])).toHaveLength(0);
    expect(commandsFor(["-v"])).toHaveLength(0);
  });

  it("answers as a program with every command would", async () => {
    const help = await runCliCaptured(["--help"]);
    expect(help.code).toBe(0);
    for (const name of [
      "serve",
      "worker",
      "sign",
      "verify",
      "secret|secrets",
      "stream-tokens",
      "forward",
    ]) {
      expect(help.stdout).toContain(`  ${name}`);
    }
    const version = await runCliCaptured(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    const typo = await runCliCaptured(["sgin"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'sgin'");
    const sign = await runCliCaptured(["sign", "--help"]);
    expect(sign).toMatchObject({ code: 0, stdout: expect.stringContaining("Usage: herald sign") });
  });
});
