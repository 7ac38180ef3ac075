/**
 * The WebGPU default limits the library relies on: what every adapter must offer, so a kernel or
 * buffer within them runs in any browser. The engine raises the device's limits to the adapter's
 * maxima (engine/device.ts) and checks each kernel and binding against the device's actual limit
 * (engine/kernel.ts); these constants are the portable floor.
 *
 * @module
 */

/**
 * Storage buffers one kernel may bind to run on every WebGPU adapter: the minimum every
 * implementation must offer (`maxStorageBuffersPerShaderStage` = 8; Chrome exposes 10, Deno on a
 * desktop GPU many more). Every kernel of the library fits (tests/engine/kernel_limits_test.ts);
 * `compileKernel` checks each kernel against the device's limit.
 *
 * @example Run on an engine capped at what every WebGPU implementation offers
 * ```ts
 * import { createEngine, PORTABLE_STORAGE_BUFFERS } from "../mod.ts";
 *
 * const engine = await createEngine({ maxStorageBuffers: PORTABLE_STORAGE_BUFFERS });
 * console.log(engine.limit("maxStorageBuffersPerShaderStage")); // 8
 * engine.destroy();
 * ```
 */
export const PORTABLE_STORAGE_BUFFERS = 8;

/**
 * WebGPU's default `maxStorageBufferBindingSize` [bytes]: 128 MiB, also llvmpipe's maximum. The
 * replay memory plan splits rings into chunks of at most this size unless told otherwise.
 */
export const PORTABLE_STORAGE_BINDING_BYTES = 128 * 1024 * 1024;
