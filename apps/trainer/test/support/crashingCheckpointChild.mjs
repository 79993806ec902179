// Child process of checkpointCrash.test.ts.
import { importTypeScript } from "../../../../scripts/support/runTypeScript.mjs";

const writer = await importTypeScript("./crashingCheckpointWriter.ts", import.meta.url);
await writer.run(process.argv[2]);
