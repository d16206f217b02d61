// GET /: what runs here and where the docs are.
import express from "express";
import type { HttpDependencies } from "./app.ts";

export function createHomeRouter(_deps: HttpDependencies): express.Router {
  return express.Router();
}
