// The chat widget: one self-contained script, web/dist/widget.js, served by the binary at /widget.js.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    target: 'es2019',
    lib: {
      entry: 'src/widget/widget.ts',
      name: 'BatonWidget',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
});
