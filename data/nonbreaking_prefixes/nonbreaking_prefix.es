# Spanish nonbreaking prefixes for tfm-tokenize, compiled for tfm.
# One prefix a line, without its final period. A period after a prefix does
# not end a sentence, so "Sra." stays one token. "#NUMERIC_ONLY#" after a
# prefix: it stays joined only when a number follows ("núm. 5").
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
Ñ

# Titles and forms of address
Sr
Sra
Srta
Sres
Sras
Dr
Dra
Drs
Lic
Ing
Arq
Prof
Profa
Dña
Ud
Uds
Vd
Vds
Excmo
Excma
Ilmo
Ilma
Mons
Gral
Cnel
Tte
Sgto
Sto
Sta

# Months
ene
feb
abr
jun
jul
ago
sept
oct
nov
dic

# Common abbreviations
admón
aprox
Avda
Av
Cía
dpto
depto
ej
pral
tel
tlf
vs

# Only before a number
art #NUMERIC_ONLY#
núm #NUMERIC_ONLY#
nro #NUMERIC_ONLY#
pág #NUMERIC_ONLY#
págs #NUMERIC_ONLY#
p #NUMERIC_ONLY#
pp #NUMERIC_ONLY#
cap #NUMERIC_ONLY#
vol #NUMERIC_ONLY#
fig #NUMERIC_ONLY#
n #NUMERIC_ONLY#
