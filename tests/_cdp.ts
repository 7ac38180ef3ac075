/**
 * Headless Chromium driven over the DevTools protocol, for the tests that interact with a page
 * (the playground): launch with WebGPU on the SwiftShader adapter, evaluate expressions in the
 * page (awaiting promises), and take screenshots.
 *
 * @module
 */
import { CHROMIUM } from "./_chromium.ts";

/** A page open in headless Chromium. */
export interface CdpPage {
  /** Evaluates `expression` in the page, awaits a promise result, returns it by value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until it is truthy (then returns it) or `timeoutMs` passes (throws). */
  waitFor<T = unknown>(expression: string, timeoutMs: number): Promise<T>;
  /** Console messages and uncaught exceptions of the page so far. */
  readonly logs: string[];
  /** Navigates to `url` and waits for its load event. */
  navigate(url: string): Promise<void>;
  /** Runs `source` in every document before its own scripts (from the next navigation on). */
  addInitScript(source: string): Promise<void>;
  /** A PNG screenshot of the viewport. */
  screenshot(): Promise<Uint8Array>;
  /** Closes the connection and the browser. */
  close(): Promise<void>;
}

/** Reads the browser's stderr until it names its DevTools endpoint. */
async function devtoolsPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited before DevTools listened: ${text.slice(-2000)}`);
    text += value;
    const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(text);
    if (m) {
      // Keep draining stderr so the browser never blocks on a full pipe.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* closed */ }
      })();
      return Number(m[1]);
    }
  }
}

/**
 * Opens `url` in headless Chromium (WebGPU on SwiftShader) and connects to the page.
 *
 * @param url The page.
 * @param options `profile`: a fresh user-data folder; `width`/`height`: the window.
 * @returns The page.
 */
export async function openPage(
  url: string,
  options: { profile: string; width?: number; height?: number },
): Promise<CdpPage> {
  if (!CHROMIUM) throw new Error("Cannot open page: Chromium is not installed");
  const browser = new Deno.Command(CHROMIUM, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--use-webgpu-adapter=swiftshader",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--remote-debugging-port=0",
      `--window-size=${options.width ?? 1400},${options.height ?? 1000}`,
      `--user-data-dir=${options.profile}`,
      url,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let ws: WebSocket | null = null;
  try {
    const port = await devtoolsPort(browser.stderr);
    let target: { type: string; url: string; webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 100 && !target; i++) {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      target = list.find((t: { type: string }) => t.type === "page");
      if (!target) await new Promise((r) => setTimeout(r, 100));
    }
    if (!target) throw new Error("Cannot open page: Chromium lists no page target");
    ws = new WebSocket(target.webSocketDebuggerUrl);
    const socket = ws;
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("Cannot connect to the page's DevTools socket"));
    });
    let nextId = 1;
    const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
    const logs: string[] = [];
    const loadWaiters: (() => void)[] = [];
    socket.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.method === "Page.loadEventFired") loadWaiters.splice(0).forEach((f) => f());
      if (msg.method === "Runtime.consoleAPICalled") {
        const args = msg.params.args.map((a: { value?: unknown; description?: string }) =>
          a.value ?? a.description
        );
        logs.push(`${msg.params.type}: ${args.join(" ")}`);
      } else if (msg.method === "Runtime.exceptionThrown") {
        const d = msg.params.exceptionDetails;
        logs.push(`exception: ${d.exception?.description ?? d.text}`);
      }
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (!p) return;
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${msg.error.message}: ${msg.error.data ?? ""}`));
      else p.resolve(msg.result);
    };
    const send = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params }));
      });
    await send("Runtime.enable");
    const page: CdpPage = {
      logs,
      async waitFor<T>(expression: string, timeoutMs: number): Promise<T> {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const v = await page.evaluate<T>(expression);
          if (v) return v;
          if (Date.now() > end) {
            throw new Error(
              `Timed out after ${timeoutMs} ms waiting for ${expression}; page logs: ${
                logs.slice(-10).join(" | ")
              }`,
            );
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      },
      async evaluate<T>(expression: string): Promise<T> {
        const r = await send("Runtime.evaluate", {
          expression,
          awaitPromise: true,
          returnByValue: true,
        }) as {
          result: { value?: T };
          exceptionDetails?: { exception?: { description?: string } };
        };
        if (r.exceptionDetails) {
          throw new Error(`Page threw: ${r.exceptionDetails.exception?.description ?? "error"}`);
        }
        return r.result.value as T;
      },
      async navigate(url: string): Promise<void> {
        await send("Page.enable");
        const loaded = new Promise<void>((resolve) => loadWaiters.push(resolve));
        await send("Page.navigate", { url });
        await loaded;
      },
      async addInitScript(source: string): Promise<void> {
        await send("Page.addScriptToEvaluateOnNewDocument", { source });
      },
      async screenshot(): Promise<Uint8Array> {
        const r = await send("Page.captureScreenshot", { format: "png" }) as { data: string };
        return Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
      },
      async close() {
        socket.close();
        browser.kill();
        await browser.status;
      },
    };
    return page;
  } catch (e) {
    ws?.close();
    browser.kill();
    await browser.status;
    throw e;
  }
}

/**
 * Removes a folder that held a browser profile, retrying while the browser's helper processes
 * still write to it after the browser has exited.
 *
 * @param dir The folder.
 */
export async function removeBrowserDir(dir: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      await Deno.remove(dir, { recursive: true });
      return;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
