# Czech nonbreaking prefixes for tfm-tokenize, compiled for tfm.
# One prefix a line, without its final period. A period after a prefix does
# not end a sentence, so "tzv." stays one token. "#NUMERIC_ONLY#" after a
# prefix: it stays joined only when a number follows ("č. 5").
# Lines starting with '#' are comments. Same format as Moses' files, so
# --prefixes accepts either.

# Initials: single capital letters
A
B
C
D
E
F
G
H
I
J
K
L
M
N
O
P
Q
R
S
T
U
V
W
X
Y
Z
Č
Ď
Ň
Ř
Š
Ť
Ú
Ů
Ž

# Academic and other titles
Bc
BcA
Ing
Mgr
MgrA
MUDr
MVDr
JUDr
PhDr
RNDr
PaedDr
ThDr
PharmDr
Dr
doc
prof

# Months
led
úno
bře
dub
kvě
čvn
čvc
srp
zář
říj
lis

# Common abbreviations
aj
cca
mj
např
popř
př
resp
sv
tj
tzn
tzv
ul
nám
tel
mil
mld
stol

# Ordinal numbers, written with a period ("1. máje", "12. století")
1
2
3
4
5
6
7
8
9
10
11
12
13
14
15
16
17
18
19
20
21
22
23
24
25
26
27
28
29
30
31

# Only before a number
č #NUMERIC_ONLY#
čl #NUMERIC_ONLY#
odst #NUMERIC_ONLY#
písm #NUMERIC_ONLY#
str #NUMERIC_ONLY#
s #NUMERIC_ONLY#
r #NUMERIC_ONLY#
