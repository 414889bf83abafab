/**
 * i18n: Chinese (zh-CN) first, English switchable; the choice is kept in localStorage and set on
 * <html lang>. Each area of the interface may add its own namespace with `addTexts` (the
 * platform pages do), so areas never edit each other's files.
 */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import zhCN from './zh-CN.js';
import en from './en.js';

/** The languages offered, default first. */
export const LANGUAGES = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];

const STORAGE_KEY = 'hpki.lang';

function initialLanguage(): Language {
  const saved = localStorage.getItem(STORAGE_KEY);
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN';
}

void i18next.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: initialLanguage(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});
document.documentElement.lang = i18next.language;

/** Switches the language and remembers it. */
export function setLanguage(lng: Language): void {
  localStorage.setItem(STORAGE_KEY, lng);
  document.documentElement.lang = lng;
  void i18next.changeLanguage(lng);
}

/** Adds an area's own texts under namespace `ns` (use them with useTranslation(ns)). */
export function addTexts(ns: string, texts: Record<Language, Record<string, unknown>>): void {
  for (const [lng, t] of Object.entries(texts)) i18next.addResourceBundle(lng, ns, t, true, true);
}

export default i18next;
