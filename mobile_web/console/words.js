// The console's words, merged into the app's tables (zh-CN default, English available). Pages
// may add their own with addWords() beside their code; words several pages use belong here.
export const WORDS = {
  'zh-CN': {
    console_not_here: '没有这个页面',
    console_back_home: '回到首页',
    console_failed: '页面没有打开',
    console_closings: '封存',
  },
  en: {
    console_not_here: 'No such page',
    console_back_home: 'Back to the start',
    console_failed: 'The page did not open',
    console_closings: 'Year closing',
  },
};
