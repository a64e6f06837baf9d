// Build the card into one ES module at custom_components/pev_portal/frontend/pev-portal-card.js.
//   node build.mjs           write the bundle
//   node build.mjs --check   fail when the committed bundle differs from a fresh build
import { build } from "esbuild";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../custom_components/pev_portal/frontend/pev-portal-card.js");
const check = process.argv.includes("--check");

const result = await build({
  entryPoints: [resolve(here, "src/pev-portal-card.ts")],
  bundle: true,
  format: "esm",
  target: "es2021",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  write: false,
  logLevel: "warning",
  tsconfig: resolve(here, "tsconfig.json"),
});
const code = result.outputFiles[0].text;

if (check) {
  let committed = "";
  try {
    committed = await readFile(out, "utf8");
  } catch {
    // missing: reported below
  }
  if (committed !== code) {
    console.error(
      `${out} is not up to date with frontend/src: run \`npm run build\` in frontend/ (or scripts/test-frontend --build) and commit it.`,
    );
    process.exit(1);
  }
  console.log(`bundle up to date (${code.length} bytes)`);
} else {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, code);
  console.log(`wrote ${out} (${code.length} bytes)`);
}
