/**
 * marl-webgpu: experience-sharing multi-agent RL trained entirely on the GPU through WebGPU.
 *
 * @module
 */
export { createEngine, Engine, GpuError } from "./engine/device.ts";
export type { AdapterReport, EngineOptions } from "./engine/device.ts";
export { Tensor } from "./engine/tensor.ts";
export type { DType } from "./engine/tensor.ts";
export { compileKernel, defineKernel } from "./engine/kernel.ts";
export { readTensor, readTensors } from "./engine/readback.ts";
export type { EnvBuffers, EnvDef, EnvSpec, VecEnv } from "./envs/env.ts";
