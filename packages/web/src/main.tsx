import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')!).render(<h1>卫生电子认证服务</h1>);
