/**
 * A real browser for tests and benchmarks: Debian's headless Chromium (installed by
 * scripts/ensure-chromium.sh when missing), driven over the DevTools protocol on 127.0.0.1.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./helpers.ts";

export function ensureChromium(): void {
  const p = Bun.spawnSync(["sh", join(REPO, "scripts", "ensure-chromium.sh")], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (p.exitCode !== 0) throw new Error(`cannot install chromium: ${p.stderr.toString()}`);
}

type Listener = (params: Record<string, unknown>) => void;

export class Browser {
  private nextId = 1;
  private pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private listeners = new Map<string, Listener[]>();

  private constructor(
    private readonly proc: Bun.Subprocess,
    private readonly ws: WebSocket,
    private readonly profile: string,
  ) {
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: Record<string, unknown>;
      };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners.get(msg.method) ?? []) l(msg.params ?? {});
      }
    });
  }

  /** Starts headless Chromium with a page of the given size and connects to that page. */
  static async launch(width = 1280, height = 1000): Promise<Browser> {
    ensureChromium();
    const profile = mkdtempSync(join(tmpdir(), "galley-chromium-"));
    const proc = Bun.spawn(
      [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        `--window-size=${width},${height}`,
        "about:blank",
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    let log = "";
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
    const deadline = Date.now() + 60_000;
    let port: string | undefined;
    while (!port && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      log += new TextDecoder().decode(value);
      port = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(log)?.[1];
    }
    reader.releaseLock();
    if (!port) {
      proc.kill();
      throw new Error(`chromium did not start:\n${log}`);
    }
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    if (!page) throw new Error("chromium has no page to drive");
    const ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("cannot connect to chromium")));
    });
    const browser = new Browser(proc, ws, profile);
    await browser.send("Page.enable");
    await browser.send("Runtime.enable");
    return browser;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  private once(method: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const list = this.listeners.get(method) ?? [];
      const l: Listener = (p) => {
        this.listeners.set(
          method,
          (this.listeners.get(method) ?? []).filter((x) => x !== l),
        );
        resolve(p);
      };
      this.listeners.set(method, [...list, l]);
    });
  }

  /** Opens a URL and waits for its load event. */
  async open(url: string): Promise<void> {
    const loaded = this.once("Page.loadEventFired");
    await this.send("Page.navigate", { url });
    await loaded;
  }

  /** Evaluates an expression in the page and returns its value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    })) as {
      result: { value: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails)
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  }

  async screenshot(path: string): Promise<void> {
    const r = (await this.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    writeFileSync(path, Buffer.from(r.data, "base64"));
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.send("Browser.close"), Bun.sleep(2000)]);
    } catch {}
    this.ws.close();
    this.proc.kill();
    await this.proc.exited;
    rmSync(this.profile, { recursive: true, force: true });
  }
}
