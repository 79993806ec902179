// Child process of checkpointCrash.test.ts.
import { importTypeScript } from "./runTypeScript.mjs";

const writer = await importTypeScript("./crashingCheckpointWriter.ts");
await writer.run(process.argv[2]);
