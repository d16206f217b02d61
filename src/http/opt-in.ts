// Double opt-in: the confirmation page (GET shows, POST confirms) and the public subscribe form.
import express from "express";
import type pg from "pg";
import type { Config } from "../config.ts";
import type { Log } from "../log.ts";

export interface OptInOptions {}

/** The opt-in settings of the HTTP app, from the configuration. */
export function optInOptions(_config: Config): OptInOptions {
  return {};
}

export function createOptInRouter(_deps: { pool: pg.Pool; log: Log; options?: OptInOptions }): express.Router {
  return express.Router();
}
