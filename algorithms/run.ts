/**
 * CLI behind `deno task run`.
 *
 * @module
 */
import { createEngine } from "../engine/device.ts";

if (import.meta.main) {
  const engine = await createEngine();
  console.log(`adapter: ${engine.adapter.description} (fallback: ${engine.adapter.isFallback})`);
  console.log("training pipelines are not built yet; the engine is available from mod.ts");
  engine.destroy();
}
