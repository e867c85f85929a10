/**
 * Child processes of a chaos run: each service is started as `node --import tsx services/<name>/src/main.ts`
 * (one process per service, so SIGKILL really kills the service and leaves no orphan behind, which a
 * `tsx` wrapper process would), with its output appended to a log file of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Asks the OS for `count` distinct free ports (listen on port 0, note the port, close). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.on('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export type ServiceKind = 'allocator' | 'query' | 'booking' | 'edge';

export interface ServiceSpec {
  /** Unique name within the run, e.g. `allocator-1`; also the log file name. */
  name: string;
  service: ServiceKind;
  port: number;
  env: Record<string, string>;
}

export interface ExitInfo {
  name: string;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When this process was started (epoch ms). */
  startedAt: number;
}

interface Running {
  spec: ServiceSpec;
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  expectedExit: boolean;
}

/**
 * Starts, kills and restarts the run's services. An exit nobody asked for is reported through
 * `onUnexpectedExit` (the caller decides whether to restart).
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly baseEnv: Record<string, string | undefined>,
    private readonly onUnexpectedExit: (exit: ExitInfo, spec: ServiceSpec) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  logFile(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  start(spec: ServiceSpec): number | undefined {
    if (this.stopping) return undefined;
    const file = this.logFile(spec.name);
    appendFileSync(
      file,
      `--- ${new Date().toISOString()} chaos: starting ${spec.name} (${spec.service}, port ${spec.port}, INSTANCE_ID=${spec.env.INSTANCE_ID ?? '-'})\n`,
    );
    const fd = openSync(file, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', `services/${spec.service}/src/main.ts`], {
        cwd: REPO_ROOT,
        env: { ...this.baseEnv, ...spec.env },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const startedAt = Date.now();
    const entry: Running = {
      spec,
      child,
      expectedExit: false,
      exited: new Promise<ExitInfo>((resolve) => {
        child.once('exit', (code, signal) => resolve({ name: spec.name, pid: child.pid, code, signal, startedAt }));
        child.once('error', () => resolve({ name: spec.name, pid: child.pid, code: -1, signal: null, startedAt }));
      }),
    };
    this.running.set(spec.name, entry);
    void entry.exited.then((exit) => {
      appendFileSync(file, `--- ${new Date().toISOString()} chaos: ${spec.name} exited (code ${exit.code}, signal ${exit.signal})\n`);
      if (this.running.get(spec.name) === entry) this.running.delete(spec.name);
      if (!entry.expectedExit && !this.stopping) this.onUnexpectedExit(exit, spec);
    });
    return child.pid;
  }

  isAlive(name: string): boolean {
    return this.running.has(name);
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  spec(name: string): ServiceSpec | undefined {
    return this.running.get(name)?.spec;
  }

  /** Sends `signal` to one service and waits for it to exit (SIGKILL after `graceMs` for other signals). */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL', graceMs = 5000): Promise<ExitInfo | null> {
    const entry = this.running.get(name);
    if (!entry) return null;
    entry.expectedExit = true;
    entry.child.kill(signal);
    if (signal === 'SIGKILL') return entry.exited;
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), graceMs);
    try {
      return await entry.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM to every service, SIGKILL to what is still alive after `graceMs`. */
  async stopAll(graceMs = 5000): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.keys()].map((name) => this.kill(name, 'SIGTERM', graceMs)));
  }
}
