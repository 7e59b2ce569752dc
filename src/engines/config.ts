import { z } from 'zod';

/** Config `engines.docker`: the Docker runtime of a node. */
export const dockerConfigSchema = z.strictObject({
  /** Whether to offer Docker engines at all. When Docker does not answer, the node runs without. */
  enabled: z.boolean().default(true),
  /**
   * The Docker engine's unix socket. Default: `$DOCKER_HOST` (unix://…), else
   * /var/run/docker.sock, else meshbot's private dockerd's (scripts/docker/dockerd.sh).
   */
  socket: z.string().min(1).optional(),
  /** Whether a missing image named `name@sha256:…` may be pulled from its registry. */
  pull: z.boolean().default(false),
  /**
   * CPUs one container may use. At least 0.01: Docker reads a share that rounds to 0 as no
   * limit, and the kernel takes no smaller quota (1 ms a 100 ms period).
   */
  cpus: z.number().min(0.01).max(256).default(1),
  /** Processes and threads one container may have. */
  pidsLimit: z.int().min(8).max(65_536).default(64),
});

export type DockerConfig = z.infer<typeof dockerConfigSchema>;
export const DOCKER_DEFAULTS: DockerConfig = { enabled: true, pull: false, cpus: 1, pidsLimit: 64 };
