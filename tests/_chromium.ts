// Headless Chromium for the tests that render pages (reports, the browser example); they skip
// when it is not installed (`.ci/run` installs Debian's package when it can).

/** Chromium binary, or null when not installed. */
export const CHROMIUM: string | null = await (async () => {
  for (const bin of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const out = await new Deno.Command("which", { args: [bin], stdout: "piped", stderr: "null" })
        .output();
      if (out.success) return new TextDecoder().decode(out.stdout).trim();
    } catch {
      return null;
    }
  }
  return null;
})();
