/**
 * A run folder's metrics files: `metrics.jsonl` (one JSON row per log point) and `metrics.csv`
 * (the same rows, with the evaluation's columns under the protocol's names).
 *
 * @module
 */
import { type MetricsRow, rowToJson, RUN_FILES } from "./run_files.ts";

/**
 * The CSV columns of a run's evaluation, by the protocol's names (quoted): one evaluation's
 * value, and with `best` the best model's value so far; none for a run that never evaluates.
 */
export interface EvalColumns {
  value: string;
  best: string | null;
}

function csvQuote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function csvHeader(row: MetricsRow, evalColumns: EvalColumns | null): string {
  return [
    "envSteps",
    "wallSeconds",
    "stepsPerSecond",
    "episodes",
    "meanReturn",
    "meanLength",
    ...row.returnPerAgent.map((_, a) => `returnAgent${a}`),
    ...Object.keys(row.scalars).sort(),
    ...(evalColumns
      ? [evalColumns.value, ...(evalColumns.best ? [evalColumns.best] : [])].map(csvQuote)
      : []),
  ].join(",");
}

function csvLine(row: MetricsRow, evalColumns: EvalColumns | null): string {
  const f = (v: number) => (Number.isFinite(v) ? String(v) : "");
  return [
    row.envSteps,
    row.wallSeconds,
    row.stepsPerSecond,
    row.episodes,
    row.meanReturn,
    row.meanLength,
    ...row.returnPerAgent,
    ...Object.keys(row.scalars).sort().map((k) => row.scalars[k]),
    ...(evalColumns
      ? [row.eval?.value ?? NaN, ...(evalColumns.best ? [row.eval?.best?.value ?? NaN] : [])]
      : []),
  ].map(f).join(",");
}

/** Rewrites both metrics files with `rows` (used when resuming: drops rows after the checkpoint). */
export async function writeMetricsFiles(
  dir: string,
  rows: MetricsRow[],
  evalColumns: EvalColumns | null,
): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/${RUN_FILES.jsonl}`,
    rows.map((r) => rowToJson(r) + "\n").join(""),
  );
  await Deno.writeTextFile(
    `${dir}/${RUN_FILES.csv}`,
    rows.length
      ? [csvHeader(rows[0], evalColumns), ...rows.map((r) => csvLine(r, evalColumns))].join(
        "\n",
      ) + "\n"
      : "",
  );
}

export async function appendRow(
  dir: string,
  row: MetricsRow,
  first: boolean,
  evalColumns: EvalColumns | null,
): Promise<void> {
  await Deno.writeTextFile(`${dir}/${RUN_FILES.jsonl}`, rowToJson(row) + "\n", { append: true });
  const csv = (first ? csvHeader(row, evalColumns) + "\n" : "") + csvLine(row, evalColumns) +
    "\n";
  await Deno.writeTextFile(`${dir}/${RUN_FILES.csv}`, csv, { append: true });
}
