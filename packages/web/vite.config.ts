import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The bundle goes to dist/app, which the certification service serves at its root URL.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist/app', emptyOutDir: true, sourcemap: true },
});
