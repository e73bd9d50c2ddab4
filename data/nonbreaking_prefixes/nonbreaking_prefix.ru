# Russian nonbreaking prefixes for tfm-tokenize, compiled for tfm.
# One prefix a line, without its final period. A period after a prefix does
# not end a sentence, so "проф." stays one token. "#NUMERIC_ONLY#" after a
# prefix: it stays joined only when a number follows ("стр. 5").
# Lines starting with '#' are comments. Same format as Moses' files, so
# --prefixes accepts either.

# Initials: single capital letters
А
Б
В
Г
Д
Е
Ж
З
И
Й
К
Л
М
Н
О
П
Р
С
Т
У
Ф
Х
Ц
Ч
Ш
Щ
Ъ
Ы
Ь
Э
Ю
Я
Ё

# Titles and forms of address
акад
проф
доц
тов
гр
г-н
г-жа

# Months
янв
фев
февр
апр
авг
сен
сент
окт
нояб
дек

# Common abbreviations
им
ул
пр
пл
просп
обл
гос
напр
см
ок
млн
млрд
тыс
руб
коп

# Only before a number
д #NUMERIC_ONLY#
кв #NUMERIC_ONLY#
стр #NUMERIC_ONLY#
с #NUMERIC_ONLY#
т #NUMERIC_ONLY#
рис #NUMERIC_ONLY#
гл #NUMERIC_ONLY#
ст #NUMERIC_ONLY#
п #NUMERIC_ONLY#
