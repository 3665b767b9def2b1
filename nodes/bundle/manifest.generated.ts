// Generated from nodes/bundle/manifest.schema.json by scripts/schemaTypes.ts (npm run schema-types); do not edit.
// The schema is the source: edit it, then regenerate (a test fails while this file differs).
/**
 * manifest.yaml of a model bundle, format ar1-bundle/2 (docs/model-bundle.md). The structure and the bounds are here; manifest.ts checks what a schema cannot say (the graphs each form needs, tensor names from the layer counts, the cache geometry, every graph and the tokenizer listed in files). Each field's `expected` is the phrase a refusal prints.
 */
export interface ManifestDocument {
  format: 'ar1-bundle/2';
  /**
   * id and version; a description key is free text, read when it is a string
   */
  bundle: {
    id: string;
    version: string;
  };
  /**
   * split: one graph per stage, the runtime loops and feeds the cache back each step; fused: vision plus one generate graph that runs prefill, the sampled reasoning loop and the flow-matching loop (default split)
   */
  form?: 'split' | 'fused';
  cameras: {
    /**
     * @minItems 1
     */
    names: string[];
    frames_per_camera: number;
    frame_spacing_s: number;
  };
  image: {
    native: {
      height: number;
      width: number;
    };
    model: {
      height: number;
      width: number;
    };
    /**
     * host: the runtime decodes and resizes (bicubic) to the model size and feeds uint8 NHWC; graph: the native size is fed
     */
    preprocess: 'host' | 'graph';
    /**
     * Normalisation applied inside the vision graph (documented; the runtime feeds uint8)
     */
    normalization: {
      mean: number[];
      std: number[];
      scale: number;
    };
  };
  vision: {
    /**
     * Language tokens per image after merging, as rows x cols (3-axis rotary positions)
     *
     * @minItems 2
     * @maxItems 2
     */
    grid: number[];
    deepstack: number;
  };
  /**
   * Decoder cache geometry: the cache tensors are [batch, kv_heads, positions, head_dim] of cache_dtype per layer
   */
  lm: {
    layers: number;
    kv_heads: number;
    head_dim: number;
    cache_dtype: 'float16' | 'float32';
  };
  prompt: {
    /**
     * @minItems 1
     */
    template: (
      | string
      | {
          images: true;
        }
      | {
          history: true;
        }
    )[];
    image_start: string;
    image_pad: string;
    image_end: string;
  };
  history: {
    steps: number;
    dt_s: number;
    /**
     * [min, max] of x, y and z for the history tokens (default [[-4, 4], [-4, 4], [-10, 10]])
     *
     * @minItems 3
     * @maxItems 3
     */
    token_ranges?: number[][];
    bins: number;
    token_offset: number;
  };
  trajectory: {
    steps: number;
    dt_s: number;
  };
  action: {
    /**
     * Action normalisation of the flow-matching expert (default: AR1's); bounded so that an edit keeping the file hashes valid cannot scale the plans by 100
     */
    normalization?: {
      accel_mean?: number;
      accel_std?: number;
      curvature_mean?: number;
      curvature_std?: number;
    };
    flow_steps?: number;
  };
  sampling: {
    temperature: number;
    top_p: number;
    max_tokens: number;
  };
  tokenizer: {
    file: string;
    cot_start: string;
    cot_end: string;
    traj_future_start: string;
    /**
     * Trajectory tokens masked while reasoning: the first one's text and how many follow it (upstream 4000)
     */
    trajectory_tokens?: {
      first: string;
      count: number;
    };
  };
  /**
   * The graphs of the bundle's form, by role
   */
  graphs: {
    [k: string]: {
      file: string;
      /**
       * @minItems 1
       */
      inputs: {
        name: string;
        dtype: 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'float16' | 'float64' | 'bfloat16';
        shape: (number | string)[];
      }[];
      /**
       * @minItems 1
       */
      outputs: {
        name: string;
        dtype: 'float32' | 'uint8' | 'int8' | 'int32' | 'int64' | 'bool' | 'float16' | 'float64' | 'bfloat16';
        shape: (number | string)[];
      }[];
      /**
       * Plans one run may carry (vision_encoder and lm_prefill only; default 1, plan by plan). Above 1 the graph's plan dimension is symbolic: vision_encoder takes the images of B plans concatenated, lm_prefill B prompts of one length
       */
      max_batch?: number;
    };
  };
  /**
   * sha256 (hex) and size of every file of the bundle except the manifest
   */
  files: {
    [k: string]: {
      sha256: string;
      bytes: number;
    };
  };
}
