import { createLogger, formatLogLine, lowestLevelFor, setLogSink, setLowestLevel } from "../../../src/provider/protocol/log";
import { execFileSync } from "node:child_process";
import { handshakeLine, shortTempDir } from "../../../src/provider/protocol/serve";

describe("handshake line", () => {
  it("strips base64 padding from the certificate, for every padding length", () => {
    for (const size of [3, 4, 5]) {
      const der = Buffer.alloc(size, 0xfb);
      const cert = handshakeLine("unix", "/tmp/x/s", der).split("|")[5].trimEnd();
      expect(cert).not.toContain("=");
      expect(Buffer.from(cert, "base64").equals(der)).toBe(true);
    }
  });

  it("has six fields and an empty certificate when plaintext", () => {
    expect(handshakeLine("tcp", "127.0.0.1:10001", null)).toBe("1|6|tcp|127.0.0.1:10001|grpc|\n");
  });
});

describe("the socket's directory", () => {
  // os.tmpdir() is the oracle: serve.ts reads the same variables without loading node:os.
  const cases: Array<Record<string, string>> = [
    {},
    { TMPDIR: "/var/tmp" },
    { TMPDIR: "/var/tmp/" },
    { TMPDIR: "/var/tmp//" },
    { TMPDIR: "/" },
    { TMP: "/srv/tmp" },
    { TEMP: "/srv/temp/" },
    { TMPDIR: "", TMP: "/srv/tmp", TEMP: "/srv/temp" },
  ];
  it.each(cases)("is where os.tmpdir() points, for %j", (vars) => {
    // In a child process: os.tmpdir() reads the real environment, which jest's process.env does not change.
    const expected = execFileSync(process.execPath, ["-e", 'process.stdout.write(require("node:os").tmpdir())'], { env: { PATH: process.env.PATH, ...vars }, encoding: "utf8" });
    expect(shortTempDir({ ...vars })).toBe(expected);
  });

  it("falls back to /tmp when the directory would make the socket path too long for a unix socket", () => {
    expect(shortTempDir({ TMPDIR: `/home/${"x".repeat(80)}` })).toBe("/tmp");
  });
});

describe("logger", () => {
  it("writes JSON lines with @level, @message and @module, no @timestamp, fields alongside", () => {
    const line = formatLogLine("warn", "provider.x", "slow", { ms: 12, err: new Error("boom"), "@timestamp": "no" });
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual({ "@level": "warn", "@message": "slow", "@module": "provider.x", ms: 12, err: "boom" });
  });

  it("child loggers extend the module name and write to the current sink", () => {
    const lines: string[] = [];
    const previous = setLogSink((l) => lines.push(l));
    try {
      createLogger("provider").child("postscale").info("hello");
    } finally {
      setLogSink(previous);
    }
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ "@level": "info", "@message": "hello", "@module": "provider.postscale" }]);
  });

  it("writes trace and debug lines only down to the lowest level set", () => {
    const lines: string[] = [];
    const previousSink = setLogSink((l) => lines.push(l));
    const previousLevel = setLowestLevel("info");
    try {
      const logger = createLogger("provider");
      logger.trace("t");
      logger.debug("d");
      logger.info("i");
      setLowestLevel("debug");
      logger.trace("t");
      logger.debug("d");
      setLowestLevel("trace");
      logger.trace("t");
    } finally {
      setLowestLevel(previousLevel);
      setLogSink(previousSink);
    }
    expect(lines.map((l) => JSON.parse(l)["@level"])).toEqual(["info", "debug", "trace"]);
  });

  it("reads the lowest level the way the engines read TF_LOG_PROVIDER and TF_LOG", () => {
    expect(lowestLevelFor({})).toBe("info");
    expect(lowestLevelFor({ TF_LOG: "off" })).toBe("info");
    expect(lowestLevelFor({ TF_LOG: "WARN" })).toBe("info");
    expect(lowestLevelFor({ TF_LOG: "debug" })).toBe("debug");
    expect(lowestLevelFor({ TF_LOG: "TRACE" })).toBe("trace");
    expect(lowestLevelFor({ TF_LOG: "JSON" })).toBe("trace");
    expect(lowestLevelFor({ TF_LOG: "loud" })).toBe("trace");
    expect(lowestLevelFor({ TF_LOG: "trace", TF_LOG_PROVIDER: "error" })).toBe("info");
    expect(lowestLevelFor({ TF_LOG: "error", TF_LOG_PROVIDER: "debug" })).toBe("debug");
  });
});
