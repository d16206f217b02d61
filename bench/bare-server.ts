// The baseline for the receiver benchmark: Express parsing the JSON body and answering 200, nothing else.
import express from "express";

const app = express();
app.post("/webhooks/acs", express.json({ type: () => true, limit: "64mb" }), (req, res) => {
  res.status(200).json({ received: Array.isArray(req.body) ? req.body.length : 1 });
});
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`listening ${JSON.stringify(server.address())}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
