// Personal names per market: Yoruba, Igbo and Hausa in Nigeria; Kikuyu, Luo, Kalenjin and Swahili
// in Kenya; Akan in Ghana; Zulu, Xhosa, Sotho and Afrikaans in South Africa; Egyptian Arabic;
// Baganda and Acholi in Uganda; Swahili and Chagga in Tanzania; Kinyarwanda; Baoulé and Dioula in
// Côte d'Ivoire; Wolof and Pulaar in Senegal.
import type { Rng } from "./prng.ts";

interface NameBook {
  first: string[];
  last: string[];
}

const split = (s: string) => s.trim().split(/\s*,\s*/);

export const NAMES: Record<string, NameBook> = {
  NG: {
    first: split(`Adebayo, Oluwaseun, Chukwuemeka, Ngozi, Aisha, Ibrahim, Funmilayo, Emeka, Chiamaka, Tunde, Yetunde, Musa, Fatima,
      Obinna, Adaeze, Babatunde, Kehinde, Taiwo, Amina, Usman, Zainab, Chinedu, Nkechi, Olumide, Bukola, Ifeanyi, Halima, Sadiq,
      Temitope, Uchenna, Abubakar, Folake, Segun, Blessing, Chidi, Damilola, Gbenga, Hadiza, Kelechi, Oluwadamilare, Adaobi, Yusuf,
      Bisola, Nnamdi, Ebere, Rukayat, Tobiloba, Onyinye`),
    last: split(`Okafor, Adeyemi, Okonkwo, Bello, Abubakar, Ogunleye, Eze, Nwosu, Adeleke, Ibrahim, Mohammed, Olawale, Chukwu, Obi,
      Balogun, Ogunbiyi, Onyekachi, Danjuma, Yusuf, Afolabi, Nnamdi, Akande, Salami, Uzor, Lawal, Oyelaran, Okoro, Adewale, Suleiman,
      Ezeh, Nwachukwu, Fashola, Oladipo, Umeh, Garba, Adesina, Ikenna, Bakare, Ojo, Aliyu`),
  },
  KE: {
    first: split(`Wanjiru, Kamau, Njeri, Otieno, Achieng, Wambui, Mwangi, Akinyi, Kipchoge, Chebet, Omondi, Atieno, Njoroge, Wairimu,
      Mutua, Nduta, Baraka, Imani, Juma, Zawadi, Kiprono, Auma, Wekesa, Nafula, Githinji, Muthoni, Brian, Faith, Kevin, Mercy, Dennis,
      Cynthia`),
    last: split(`Kamau, Otieno, Mwangi, Wanjiku, Ochieng, Njoroge, Kariuki, Odhiambo, Kiprotich, Mutua, Wafula, Chege, Onyango, Kimani,
      Omondi, Maina, Korir, Nyambura, Owino, Gitau, Mwende, Karanja, Cheruiyot, Wekesa, Kiptoo, Achieng, Macharia, Ndungu`),
  },
  GH: {
    first: split(`Kwame, Akosua, Kofi, Ama, Yaw, Abena, Kwabena, Adwoa, Kojo, Efua, Kwaku, Akua, Kwesi, Esi, Yaa, Afia, Nana, Ekow,
      Araba, Fiifi, Mawuli, Selasi, Edem, Adjoa, Kobina, Afua`),
    last: split(`Mensah, Asante, Owusu, Boateng, Osei, Agyeman, Ofori, Appiah, Amoah, Darko, Addo, Acheampong, Antwi, Frimpong, Ansah,
      Quaye, Tetteh, Bonsu, Sarpong, Gyamfi, Adjei, Kuffour, Amankwah, Badu`),
  },
  ZA: {
    first: split(`Thabo, Nomvula, Sipho, Lindiwe, Themba, Zanele, Bongani, Ayanda, Lerato, Mandla, Nokuthula, Sizwe, Thandeka, Lwazi,
      Pieter, Johan, Annelie, Riaan, Marike, Jaco, Naledi, Kagiso, Palesa, Tshepo, Xolani, Andile, Busisiwe, Sarah, Michael`),
    last: split(`Dlamini, Nkosi, Ndlovu, Khumalo, Mthembu, Zulu, Mokoena, Mahlangu, Botha, van der Merwe, Pretorius, Nel, du Plessis,
      Venter, Naidoo, Mabuza, Xaba, Sithole, Ngcobo, Mkhize, Molefe, Radebe, Jacobs, Coetzee, Maseko`),
  },
  EG: {
    first: split(`Mohamed, Ahmed, Mahmoud, Mostafa, Omar, Youssef, Fatma, Nour, Mariam, Aya, Salma, Hana, Karim, Amr, Hassan, Yasmin,
      Rania, Tarek, Heba, Sherif, Dina, Khaled, Menna, Ziad`),
    last: split(`Hassan, Ibrahim, Mahmoud, Abdelrahman, El-Sayed, Mostafa, Saleh, Fathy, Ali, Farouk, Abdallah, Shawky, Nasser, Gamal,
      Soliman, Mansour, Hamdy, Zaki, Sabry, Fouad`),
  },
  UG: {
    first: split(`Nakato, Babirye, Mukasa, Kato, Namutebi, Ssali, Akello, Okello, Brian, Joan, Ivan, Patience, Moses, Grace, Daniel,
      Esther, Ronald, Sharon, Apio, Mugisha`),
    last: split(`Mukasa, Ssempijja, Nabirye, Okello, Kato, Namukasa, Ochieng, Tumusiime, Byaruhanga, Mugisha, Atuhaire, Kiggundu,
      Lubega, Nsubuga, Ouma, Kintu, Nakimuli, Opio`),
  },
  TZ: {
    first: split(`Juma, Rehema, Baraka, Neema, Hamisi, Amani, Mwanaisha, Salim, Zuhura, Daudi, Upendo, Faraji, Asha, Hassani, Furaha,
      Elia, Saida, Khamis`),
    last: split(`Mwakyusa, Mushi, Massawe, Kimaro, Mrema, Swai, Mollel, Mbwana, Said, Lyimo, Shirima, Temba, Kisanga, Mfinanga,
      Magesa, Mwakalinga`),
  },
  RW: {
    first: split(`Aimable, Uwase, Mugisha, Ineza, Kalisa, Uwimana, Habimana, Mukamana, Niyonzima, Ishimwe, Keza, Ganza, Shema, Ingabire,
      Eric, Alice, Divine, Patrick, Claudine, Olivier`),
    last: split(`Uwimana, Habimana, Niyonsenga, Mukamana, Nshimiyimana, Hakizimana, Mugabo, Iradukunda, Ndayisaba, Uwase, Bizimana,
      Nkurunziza, Kayitesi, Mutesi, Rukundo, Gatete`),
  },
  CI: {
    first: split(`Kouassi, Aya, Koffi, Adjoua, Yao, Amenan, Konan, Affoué, Seydou, Mariam, Moussa, Awa, Jean-Baptiste, Marie-Claire,
      Serge, Brigitte, Didier, Salimata, Akissi, Ange`),
    last: split(`Kouassi, Kouamé, Koné, Traoré, Ouattara, Yao, N'Guessan, Bamba, Coulibaly, Diabaté, Touré, Konan, Kouadio, Diallo,
      Aka, Yapi, Gnagne, Soro`),
  },
  SN: {
    first: split(`Mamadou, Fatou, Ousmane, Aminata, Cheikh, Awa, Abdoulaye, Khady, Modou, Ndeye, Ibrahima, Astou, Moustapha, Mariama,
      Babacar, Coumba, Pape, Rokhaya, Aliou, Sokhna`),
    last: split(`Diop, Ndiaye, Fall, Sow, Gueye, Sarr, Ba, Diallo, Faye, Mbaye, Cissé, Thiam, Seck, Niang, Kane, Sy, Dieng, Ndour`),
  },
};

export function nameBook(countryCode: string): NameBook {
  const b = NAMES[countryCode];
  if (!b) throw new Error(`no names for ${countryCode}`);
  return b;
}

/** Lower-case ASCII for email local parts and domains (é → e, N'Guessan → nguessan, van der Merwe → vandermerwe). */
export function asciiSlug(s: string): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

const COMPANY_FORMS = ["Ltd", "Enterprises", "Ventures", "Holdings", "Trading Co.", "Stores", "Foods", "Logistics", "Pharmacy", "Fashion House", "Tech Hub", "Agro Ltd"];

/** A plausible small-business name: surname-based or city-based, with a local business form. */
export function companyName(rng: Rng, last: string, city: string): string {
  const form = rng.pick(COMPANY_FORMS);
  const r = rng.next();
  if (r < 0.45) return `${last} ${form}`;
  if (r < 0.7) return `${city} ${form}`;
  if (r < 0.85) return `${last} & Sons ${form === "Ltd" ? "Ltd" : "Enterprises"}`;
  return `${rng.pick(["Sunrise", "Unity", "Royal", "Green Valley", "Golden Gate", "Savannah", "Baobab", "Harmattan", "Kilimanjaro", "Atlantic"])} ${form}`;
}

/** Staff names for the demo users, per organization. */
export const STAFF: Record<string, string[]> = {
  "naija-retail": ["Chioma Okeke", "Tunde Bakare", "Amina Yusuf", "Olusegun Adeyemi", "MarketSage Assistant"],
  "savanna-fintech": ["Wanjiku Kamau", "Otieno Ouma", "Grace Nakato", "Daudi Mrema", "MarketSage Assistant"],
};
